// A ceiling for any Node.js scoring server on this machine: bare `node:http` that reads the request body and answers
// a fixed body, with no framework, no JSON parsing and no model. What it cannot beat, no server that scores can.
//
//   npx tsx bench/serving/http-only.ts PORT ANSWER_JSON
import http from 'node:http';

const [portArg, answer] = process.argv.slice(2);
if (!portArg || !answer) throw new Error('usage: http-only.ts PORT ANSWER_JSON');
const body = Buffer.from(answer);
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) };
http
  .createServer((req, res) => {
    req.on('data', () => {});
    req.on('end', () => {
      res.writeHead(200, headers);
      res.end(body);
    });
  })
  .listen(Number(portArg), '127.0.0.1', () => process.stdout.write('ready\n'));
