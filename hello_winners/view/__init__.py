"""The winner view: what the Lambda zip holds besides the events.

The pure fold of a batch, the consumer that applies it to DynamoDB, the winner API and its page, the
tables, the leaderboard text and Kinesis records as Lambda delivers them. Nothing here imports the
game, deploy, the embedded AWS, analysis or the workshop.
"""
