"""Presentation: formatting, tables, sentences, figures and the files of a report. Imports analysis.statistics
and analysis.reading; the modules are listed in analysis/__init__.py."""
