# One recursive folder remover for the host tools and the tests (both runtimes).
# Licence: MIT (this project).


def rmtree(path, depth=0):
    # remove a folder with everything in it; missing is fine, depth bounded
    import os

    try:
        names = os.listdir(path)
    except OSError:
        return
    for n in names:
        p = path + "/" + n
        try:
            os.remove(p)
        except OSError:
            if depth < 8:  # a folder (or gone): recurse
                rmtree(p, depth + 1)
    try:
        os.rmdir(path)
    except OSError:
        pass
