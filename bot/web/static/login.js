// The sign-in link carries its token after "#": put it in the form and drop it from the
// address bar, so it is neither sent to the server in the URL nor left in the history.
document.addEventListener("DOMContentLoaded", function () {
  var token = window.location.hash.slice(1);
  if (token) {
    document.getElementById("token").value = token;
    history.replaceState(null, "", window.location.pathname);
  }
});
