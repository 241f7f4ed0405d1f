"""Package layout: envs/, reward_designers/ and assets/ install as subpackages of agentgym.

The folders stay at the top of the repository, as the architecture reads (DESIGN.md),
and every subpackage found below them is included without a hand-kept list.
"""

from setuptools import find_packages, setup

ROOTS = {
    "agentgym": "agentgym",
    "agentgym.envs": "envs",
    "agentgym.reward_designers": "reward_designers",
    "agentgym.assets": "assets",
}

packages = []
for package, folder in ROOTS.items():
    packages.append(package)
    packages += [f"{package}.{sub}" for sub in find_packages(folder)]

setup(packages=packages, package_dir=ROOTS)
