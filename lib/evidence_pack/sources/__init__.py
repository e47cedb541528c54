"""Where raw files come from: the catalogue of public files, the verified downloader, and readers
for each publisher's format. Lowest stage: imports nothing else of the package but config."""
