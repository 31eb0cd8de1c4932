"""How a command stops: one clear line on stderr and an exit code, never a traceback."""

EXIT_FAILURE = 1
EXIT_USAGE = 2  # a missing or malformed argument, as argparse has it
EXIT_INTERRUPTED = 130  # Ctrl+C, as a shell reports a process stopped by SIGINT


class CliError(Exception):
    """Printed as `sotay: <message>` on stderr; the process exits with EXIT_FAILURE."""


class UsageError(CliError):
    """Arguments that argparse cannot check by itself; the exit is EXIT_USAGE."""
