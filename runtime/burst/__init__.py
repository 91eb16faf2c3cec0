"""The burst maths: frames in, alignment, reference choice, robust merge, fusion, blur-degree and residual maps, the choice of n (NumPy + OpenCV)."""
