# The bundled assets live at the repo's top level (assets/) and install as the package
# bash_ai.assets; that mapping needs an explicit package list, which pyproject.toml cannot mix
# with automatic discovery.
from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["bash_ai", "bash_ai.*", "trainer", "trainer.*"]) + ["bash_ai.assets"],
    package_dir={"bash_ai.assets": "assets"},
)
