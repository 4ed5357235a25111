"""Run a command in a pseudo-terminal and answer its prompts, for tests of
interactive commands (`wattbridge config init`). Usage:
  pty-answer.py '<json: [[prompt regex, keys to send], ...]>' command args...
Prints everything the command wrote; exits with the command's exit code."""
import json, os, pty, re, select, sys, time

script = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])

output = b""
step = 0
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        output += chunk
    text = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode("utf-8", "replace"))
    if step < len(script) and re.search(script[step][0], text.split("\x00")[-1]):
        # Answer once the prompt is on screen; cut the screen so the next prompt is new text.
        time.sleep(0.1)
        os.write(fd, script[step][1].encode())
        output += b"\x00"
        step += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", output.decode("utf-8", "replace")).replace("\x00", ""))
sys.exit(os.waitstatus_to_exitcode(status))
