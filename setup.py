"""The packages of the distribution; everything else is declared in pyproject.toml.

The runtime package ``forum`` is forum/. The repository keeps the templates, the migrations and the
demo data at the top level; they are installed as packages of their own, so that a wheel carries
them and the code finds them with importlib.resources in a checkout (``pip install -e .``) and in an
install alike: templates/ as ``forum.templates``, migrations/ as ``forum.migrations`` and seed/ (the
demo data and its loaders, outside the runtime package) as ``forum_seed``. Their files are listed
under [tool.setuptools.package-data] in pyproject.toml.
"""

from setuptools import find_namespace_packages, setup

TOP_LEVEL_FOLDERS = {"forum.templates": "templates", "forum.migrations": "migrations", "forum_seed": "seed"}


def packages() -> list[str]:
    """forum and its folders, then each top-level folder and its subfolders under its package name."""
    found = find_namespace_packages(include=["forum", "forum.*"], exclude=["*__pycache__"])
    for name, folder in TOP_LEVEL_FOLDERS.items():
        found.append(name)
        found += [f"{name}.{sub}" for sub in find_namespace_packages(where=folder, exclude=["*__pycache__"])]
    return found


setup(packages=packages(), package_dir=TOP_LEVEL_FOLDERS)
