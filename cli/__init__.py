"""The ``tradeledger`` command line: a thin layer over ``ledger``."""
