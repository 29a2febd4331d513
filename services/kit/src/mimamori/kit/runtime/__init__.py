"""Modules, the process that runs them (one, some or all), and the `mimamori` command."""
