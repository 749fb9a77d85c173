"""The command line: ``copilot-tui`` launches the TUI; subcommands script the session service."""
