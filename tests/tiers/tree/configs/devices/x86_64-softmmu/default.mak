# Boards are selected by default
