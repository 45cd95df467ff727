# Tickets and messages arrive with their own issue; the app is installed now so
# that the contacts panel can link to it without a later settings change.
