"""Community rules: accounts, submissions, votes and moderation, over the store."""
