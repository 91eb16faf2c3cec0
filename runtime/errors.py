"""The one exception type the runtime raises for bad input.

The CLI turns it into a one-line message and exit status 2; library callers can
catch it separately from programming errors.
"""


class BurstError(ValueError):
    """Input the runtime cannot process; the message names the file or value."""
