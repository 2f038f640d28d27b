"""A real OpenSearch node (or a small cluster) on loopback, built from Maven Central artifacts.

OpenSearch has no PyPI or Debian package, but its server is published on Maven Central as Java
artifacts. :func:`ensure_distribution` writes a small ``pom.xml``, lets ``mvn`` resolve the server
(``org.opensearch:opensearch``) and the HTTP/transport module (``transport-netty4-client``), and
lays them out as the server expects: ``lib/`` holds the server's classpath, each module lives in
``modules/<name>/`` with its jars and a ``plugin-descriptor.properties``. The result is cached
under ``~/.cache/keeneye/opensearch/<version>`` (``KEENEYE_OPENSEARCH_HOME`` overrides), so only
the first start downloads anything (~50 MB).

:func:`start_node` runs ``org.opensearch.bootstrap.OpenSearch`` on Java 17 with its data, logs and
config under a folder of the caller's; it binds 127.0.0.1 only. The ISM plugin (index lifecycle
management) is not published on Maven Central: the event log then enforces retention itself by
deleting expired daily indices.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from keeneye.errors import KeeneyeError

VERSION = "2.19.6"
HOST = "127.0.0.1"
_LOG4J = "2.25.4"


class OpenSearchNodeError(KeeneyeError):
    """An OpenSearch node could not be built, started or stopped."""


@dataclass(frozen=True)
class Module:
    """One server module: its Maven coordinates and the plugin descriptor the server reads."""

    name: str
    artifact: str
    classname: str
    extended: tuple[str, ...] = ()


MODULES: tuple[Module, ...] = (
    Module(
        "transport-netty4",
        "org.opensearch.plugin:transport-netty4-client",
        "org.opensearch.transport.Netty4Plugin",
    ),
)


def cache_root() -> Path:
    env = os.environ.get("KEENEYE_OPENSEARCH_HOME")
    if env:
        return Path(env)
    if os.geteuid() == 0:  # the node runs as an unprivileged user, who must read the jars
        return Path("/var/cache/keeneye/opensearch") / VERSION
    return Path.home() / ".cache" / "keeneye" / "opensearch" / VERSION


#: OpenSearch refuses to run as root; as root the node runs as ``KEENEYE_OPENSEARCH_USER``.
def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    return os.environ.get("KEENEYE_OPENSEARCH_USER", "nobody")


def _reachable(path: Path) -> bool:
    """Whether every folder above ``path`` lets other users through (``o+x``)."""
    return all(not p.exists() or p.stat().st_mode & 0o001 for p in path.parents)


def node_root(folder: Path) -> Path:
    """Where the nodes keep their data: ``folder``, or (when the node's user could not reach
    it, e.g. under a private temp folder) a fresh world-traversable folder in /tmp."""
    folder = folder.resolve()
    if _run_as() is None or _reachable(folder):
        return folder
    import tempfile

    fresh = Path(tempfile.mkdtemp(prefix="keeneye-opensearch-"))
    fresh.chmod(0o755)
    return fresh


def _hand_over(folder: Path, user: str | None) -> None:
    """Let the node's user write its folder (data, logs)."""
    if user is None:
        return
    for path in [folder, *folder.rglob("*")]:
        shutil.chown(path, user=user)


def _pom(artifacts: list[str]) -> str:
    deps = []
    for coordinate in artifacts:
        group, artifact, version = coordinate.split(":")
        deps.append(
            f"<dependency><groupId>{group}</groupId><artifactId>{artifact}</artifactId>"
            f"<version>{version}</version></dependency>"
        )
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>keeneye</groupId><artifactId>opensearch-node</artifactId><version>1</version>"
        f"<packaging>pom</packaging><dependencies>{''.join(deps)}</dependencies></project>\n"
    )


def _resolve(work: Path, artifacts: list[str]) -> list[Path]:
    """The jars of ``artifacts`` and their runtime dependencies, resolved by ``mvn``."""
    mvn = shutil.which("mvn")
    if mvn is None:
        raise OpenSearchNodeError("Maven is not installed: apt-get install -y maven")
    work.mkdir(parents=True, exist_ok=True)
    (work / "pom.xml").write_text(_pom(artifacts))
    out = work / "classpath.txt"
    result = subprocess.run(
        [
            mvn,
            "-q",
            "-B",
            "dependency:build-classpath",
            "-Dmdep.includeScope=runtime",
            f"-Dmdep.outputFile={out}",
        ],
        cwd=work,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise OpenSearchNodeError(
            f"mvn could not resolve {', '.join(artifacts)}:\n"
            + (result.stdout + result.stderr)[-3000:]
        )
    return [Path(p) for p in out.read_text().strip().split(os.pathsep) if p]


#: What the netty module's code may do under the server's security manager (as the
#: distribution's own policy file grants it).
_MODULE_POLICY = """grant {
  permission java.io.FilePermission "/proc/sys/net/core/somaxconn", "read";
  permission java.net.SocketPermission "*", "accept,connect,resolve";
  permission java.lang.RuntimePermission "*", "setContextClassLoader";
  permission java.lang.RuntimePermission "setContextClassLoader";
  permission java.lang.RuntimePermission "getClassLoader";
  permission java.util.PropertyPermission "sun.nio.ch.bugLevel", "write";
};
"""


def ensure_distribution(root: Path | None = None) -> Path:
    """The cached OpenSearch home (``lib/``, ``modules/``), built with ``mvn`` when missing."""
    root = root or cache_root()
    if (root / "READY").is_file():
        return root
    if shutil.which("java") is None:
        raise OpenSearchNodeError("Java 17 is not installed: apt-get install -y openjdk-17-jre")
    building = root.with_name(root.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    server = [
        f"org.opensearch:opensearch:{VERSION}",
        f"org.opensearch:opensearch-plugin-classloader:{VERSION}",
        f"org.apache.logging.log4j:log4j-core:{_LOG4J}",
    ]
    lib_jars = _resolve(building / "mvn-server", server)
    (building / "lib").mkdir(parents=True)
    for jar in lib_jars:
        shutil.copy2(jar, building / "lib" / jar.name)
    in_lib = {jar.name for jar in lib_jars}
    for module in MODULES:
        jars = _resolve(building / f"mvn-{module.name}", [*server, f"{module.artifact}:{VERSION}"])
        folder = building / "modules" / module.name
        folder.mkdir(parents=True)
        for jar in jars:
            if jar.name not in in_lib:
                shutil.copy2(jar, folder / jar.name)
        (folder / "plugin-descriptor.properties").write_text(
            f"description={module.name} module of OpenSearch\n"
            f"version={VERSION}\nname={module.name}\nclassname={module.classname}\n"
            f"java.version=17\nopensearch.version={VERSION}\n"
            f"extended.plugins={','.join(module.extended)}\nhas.native.controller=false\n"
        )
        (folder / "plugin-security.policy").write_text(_MODULE_POLICY)
    for empty in ("plugins", "bin", "config"):
        (building / empty).mkdir()
    (building / "READY").write_text(VERSION + "\n")
    if root.exists():
        shutil.rmtree(building, ignore_errors=True)  # another process finished first
    else:
        root.parent.mkdir(parents=True, exist_ok=True)
        building.rename(root)
    return root


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


_LOG4J2 = """status = error
appender.console.type = Console
appender.console.name = console
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d{ISO8601}][%-5p][%-25c{1.}] [%node_name]%marker %m%n
rootLogger.level = info
rootLogger.appenderRef.console.ref = console
"""


@dataclass
class Node:
    """A started node: its process, HTTP URL and folders."""

    name: str
    pid: int
    http_port: int
    transport_port: int
    folder: Path
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.http_port}"


def node_command(
    home: Path,
    folder: Path,
    *,
    name: str,
    http_port: int,
    transport_port: int,
    cluster: str,
    seeds: list[int] | None,
    heap: str,
) -> list[str]:
    """The ``java`` command line of one node (``seeds`` are the transport ports of a cluster)."""
    config = folder / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "opensearch.yml").write_text("")
    (config / "log4j2.properties").write_text(_LOG4J2)
    (config / "jvm.options").write_text("")
    java = shutil.which("java") or "java"
    settings = [
        f"-Ecluster.name={cluster}",
        f"-Enode.name={name}",
        f"-Epath.data={folder / 'data'}",
        f"-Epath.logs={folder / 'logs'}",
        f"-Enetwork.host={HOST}",
        f"-Ehttp.port={http_port}",
        f"-Etransport.port={transport_port}",
        "-Ebootstrap.memory_lock=false",
        "-Ecluster.routing.allocation.disk.threshold_enabled=false",
        "-Eaction.auto_create_index=true",
    ]
    if seeds is None:
        settings.append("-Ediscovery.type=single-node")
    else:
        hosts = ",".join(f"{HOST}:{port}" for port in seeds)
        names = ",".join(f"node-{i}" for i in range(len(seeds)))
        settings += [
            f"-Ediscovery.seed_hosts={hosts}",
            f"-Ecluster.initial_cluster_manager_nodes={names}",
        ]
    return [
        java,
        f"-Xms{heap}",
        f"-Xmx{heap}",
        "-XX:+UseSerialGC",
        "-Xss1m",
        "-Djava.awt.headless=true",
        "-Dfile.encoding=UTF-8",
        "-Djna.nosys=true",
        "-Dio.netty.noUnsafe=true",
        "-Dio.netty.noKeySetOptimization=true",
        "-Dlog4j.shutdownHookEnabled=false",
        "-Dlog4j2.disable.jmx=true",
        f"-Dopensearch.path.home={home}",
        f"-Dopensearch.path.conf={config}",
        "-Dopensearch.distribution.type=tar",
        "-Dopensearch.bundled_jdk=false",
        "-cp",
        str(home / "lib" / "*"),
        "org.opensearch.bootstrap.OpenSearch",
        *settings,
    ]


def _tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-3000:]
    except OSError:
        return ""


def wait_green(url: str, *, nodes: int, timeout: float, procs: list[Node]) -> None:
    """Wait until ``url`` answers with ``nodes`` nodes and at least yellow health."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for node in procs:
            if node.proc is not None and node.proc.poll() is not None:
                log = _tail(node.folder / "node.log")
                raise OpenSearchNodeError(
                    f"OpenSearch node {node.name} exited with code {node.proc.returncode}:\n{log}"
                )
        try:
            response = httpx.get(
                f"{url}/_cluster/health",
                params={"wait_for_nodes": str(nodes), "timeout": "1s"},
                timeout=3.0,
            )
            body = response.json()
            if response.status_code == 200 and body.get("number_of_nodes") == nodes:
                return
            nodes_now = body.get("number_of_nodes")
            last = f"HTTP {response.status_code}: {body.get('status')}, {nodes_now} nodes"
        except (httpx.HTTPError, ValueError) as exc:
            last = str(exc)
        time.sleep(0.25)
    raise OpenSearchNodeError(f"OpenSearch at {url} not ready after {timeout:g}s ({last})")


def start_cluster(
    folder: Path,
    *,
    nodes: int = 1,
    http_port: int = 0,
    heap: str = "256m",
    timeout: float = 120.0,
    home: Path | None = None,
) -> list[Node]:
    """Start ``nodes`` OpenSearch nodes on loopback with data under ``folder``; wait until the
    cluster has formed. One node runs with ``discovery.type=single-node``."""
    home = ensure_distribution(home)
    folder = node_root(folder)
    started: list[Node] = []
    transports = [free_port() for _ in range(nodes)]
    https = [http_port or free_port()] + [free_port() for _ in range(nodes - 1)]
    cluster = f"keeneye-{os.getpid()}-{free_port()}"
    try:
        for index in range(nodes):
            name = f"node-{index}"
            node_folder = folder / name
            node_folder.mkdir(parents=True, exist_ok=True)
            args = node_command(
                home,
                node_folder,
                name=name,
                http_port=https[index],
                transport_port=transports[index],
                cluster=cluster,
                seeds=None if nodes == 1 else transports,
                heap=heap,
            )
            env = {**os.environ, "OPENSEARCH_PATH_CONF": str(node_folder / "config")}
            user = _run_as()
            (node_folder / "node.log").touch()
            _hand_over(node_folder, user)
            with (node_folder / "node.log").open("ab") as log:
                proc = subprocess.Popen(
                    args,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=env,
                    start_new_session=True,
                    user=user,
                    extra_groups=[] if user else None,
                    cwd=node_folder,
                )
            started.append(Node(name, proc.pid, https[index], transports[index], node_folder, proc))
        wait_green(started[0].url, nodes=nodes, timeout=timeout, procs=started)
    except BaseException:
        stop_nodes(started)
        raise
    return started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def is_opensearch(pid: int) -> bool:
    """Whether ``pid`` still runs an OpenSearch node (a recycled PID belongs to someone else)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return False
    return b"org.opensearch.bootstrap.OpenSearch" in cmdline and _alive(pid)


def _reap(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == pid
    except ChildProcessError:
        return not _alive(pid)


def stop_pid(pid: int, timeout: float = 20.0, *, kill: bool = False) -> None:
    """Stop one node by PID (SIGTERM, SIGKILL after ``timeout``; ``kill`` sends SIGKILL now)."""
    if not is_opensearch(pid):
        _reap(pid)
        return
    try:
        os.kill(pid, signal.SIGKILL if kill else signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if _reap(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    while not _reap(pid) and time.monotonic() < deadline + 5:
        time.sleep(0.05)


def stop_nodes(nodes: list[Node], timeout: float = 20.0) -> None:
    for node in nodes:
        stop_pid(node.pid, timeout)
    for node in nodes:  # data moved to /tmp by node_root goes with the nodes
        if node.folder.parent.name.startswith("keeneye-opensearch-"):
            shutil.rmtree(node.folder.parent, ignore_errors=True)
