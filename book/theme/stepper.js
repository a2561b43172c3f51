// The step-through viewer: see book/src/residual/step-through.md.
