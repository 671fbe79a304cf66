"""Labs: lessons, the check registry, grading and the student's lesson panel."""
