#!/usr/bin/env bash
# Checks the nginx site in deploy/nginx with `nginx -t`, in a throwaway prefix: the site's
# ports moved to 127.0.0.1 (HTTP_PORT, HTTPS_PORT; defaults 18080 and 18443), a self-signed
# certificate in place of the operator's. Needs nginx and openssl (Debian: apt-get install
# nginx openssl). With --serve, nginx then runs in the foreground on those ports until ^C,
# in front of whatever workers listen on 127.0.0.1:8081-8083.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
http_port=${HTTP_PORT:-18080}
https_port=${HTTPS_PORT:-18443}
prefix=$(mktemp -d)
trap 'rm -rf "$prefix"' EXIT
mkdir -p "$prefix/conf/snippets" "$prefix/logs" "$prefix/html" "$prefix/temp"

openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=bot.example.vn \
    -keyout "$prefix/conf/privkey.pem" -out "$prefix/conf/fullchain.pem" 2>/dev/null
sed -e "s#/etc/letsencrypt/live/bot.example.vn/#$prefix/conf/#" \
    -e "s#listen 80;#listen 127.0.0.1:$http_port;#" \
    -e "s#listen 443 ssl;#listen 127.0.0.1:$https_port ssl;#" \
    -e '/listen \[::\]/d' \
    -e "s#root /var/www/html;#root $prefix/html;#" \
    "$here/sotay.conf" >"$prefix/conf/sotay.conf"
cp "$here/sotay-locations.conf" "$prefix/conf/snippets/"

cat >"$prefix/conf/nginx.conf" <<CONF
pid $prefix/nginx.pid;
error_log $prefix/logs/error.log;
worker_processes 1;
events {}
http {
    access_log $prefix/logs/access.log;
    client_body_temp_path $prefix/temp/body;
    proxy_temp_path $prefix/temp/proxy;
    fastcgi_temp_path $prefix/temp/fastcgi;
    uwsgi_temp_path $prefix/temp/uwsgi;
    scgi_temp_path $prefix/temp/scgi;
    include $prefix/conf/sotay.conf;
}
CONF

nginx -t -p "$prefix/" -c "$prefix/conf/nginx.conf"
if [[ ${1:-} == --serve ]]; then
    echo "serving http://127.0.0.1:$http_port and https://127.0.0.1:$https_port (^C stops)"
    nginx -p "$prefix/" -c "$prefix/conf/nginx.conf" -g 'daemon off;'
fi
