"""Files the committee's operators take away: spreadsheets and charts."""
