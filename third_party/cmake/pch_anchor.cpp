// Compiled once to produce the shared precompiled LibTorch header.
