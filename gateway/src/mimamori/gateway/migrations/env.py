from mimamori.kit.migrations import run_env

run_env()
