print("icws-bench")
