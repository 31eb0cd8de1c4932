"""Data the project ships: handbook entries, quiz banks, abbreviations, synonyms and message
texts."""

from pathlib import Path

CONTENT_DIR = Path(__file__).resolve().parent
HANDBOOK_DIR = CONTENT_DIR / "handbook"
ABBREVIATIONS_FILE = CONTENT_DIR / "abbreviations.tsv"
SYNONYMS_FILE = CONTENT_DIR / "synonyms.tsv"
