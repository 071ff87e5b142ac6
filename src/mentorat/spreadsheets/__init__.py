"""Spreadsheets in and out: CSV and XLSX imports that upsert, streamed exports."""
