"""Side-by-side benchmark of incident-tui's C leak analyzer against gcc, clang and cppcheck."""
