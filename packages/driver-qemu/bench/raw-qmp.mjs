// The benchmarks' raw QMP client (the limit side): no ids, no timeouts, no
// events; replies come back in order. `call` resolves with the command's
// `return` and throws on a QMP error.
export function qmpOver(sock) {
  let buf = '';
  const waiting = [];
  sock.setEncoding('utf8');
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const msg = JSON.parse(buf.slice(0, i));
      buf = buf.slice(i + 1);
      if (!msg.event) waiting.shift()?.(msg);
    }
  });
  sock.on('error', () => {});
  return {
    next: () => new Promise((r) => waiting.push(r)),
    call: async (execute, args) => {
      sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
      const m = await new Promise((r) => waiting.push(r));
      if (m.error) throw new Error(`${execute}: ${m.error.desc}`);
      return m.return;
    },
  };
}
