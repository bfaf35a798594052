"""sesmonitor: keep an AWS SES account's bounce and complaint rates in view before AWS acts on them."""

__version__ = "0.1.0"
