"""Thin command-line entry points: parse, load config, call one function per command."""
