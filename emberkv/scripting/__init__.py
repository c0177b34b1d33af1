"""Lua scripting (EVAL, FUNCTION/FCALL) on lupa's Lua 5.1."""
