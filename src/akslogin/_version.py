"""The version, in one place: the package, the wheel's metadata (pyproject reads it) and every User-Agent."""
__version__ = "0.1.0"
#: What akslogin calls itself to Entra, ARM and API servers (their logs then say which tool asked).
USER_AGENT = f"akslogin/{__version__}"
