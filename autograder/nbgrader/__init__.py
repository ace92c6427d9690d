"""nbgrader integration: its execute step run in the sandbox, the scores synced into its gradebook,
late penalties from its timestamps, and releasing the course's notebooks.
"""
