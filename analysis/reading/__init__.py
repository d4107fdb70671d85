"""Reading: experiment folders (run folders, Ray folders, a report's own tables) into trials and tidy
tables. Imports nothing else of analysis; the modules are listed in analysis/__init__.py."""
