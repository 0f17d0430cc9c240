"""Refurb: donated computers tracked from donor to household, with a label at every stage."""

__version__ = "0.1.0"
