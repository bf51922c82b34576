// LogAnalysis: filled in by the log-analysis work (issue 7).
