"""onboard: a guided agent that gets an exchange API key made, captured and verified."""

__version__ = "0.1.0"
