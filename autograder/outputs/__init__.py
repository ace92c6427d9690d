"""What instructors and students read: feedback text, exports (a registry of writers), the HTML
report and the Gradescope bundle.
"""
