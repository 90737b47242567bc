"""Instructor and maintenance tools of the course: executing lectures, driving nbgrader, grading."""
