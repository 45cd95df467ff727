"""Contacts in and out of spreadsheets: reading files (reading), the
columns both directions share (columns), an import in two phases (planning,
then writing; importing is the entry point) and the export (exporting)."""
