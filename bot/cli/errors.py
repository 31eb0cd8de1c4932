"""The one exception a subcommand raises to stop with a single clear line and a non-zero exit."""

EXIT_FAILURE = 1
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """Printed as `sotay: <message>` on stderr; the process exits with EXIT_FAILURE."""
