// What a user would write by hand: a plain Node.js HTTP server that answers KServe v2 JSON infer
// requests for one ONNX model with onnxruntime-node (the same ONNX Runtime 1.30 inferd uses).
// Session options match inferd's defaults, so inferd ÷ this measures serving quality alone.
// onnxruntime-node is installed at scenario time (bench/scenario_node.sh), never committed.
//
//   NODE_PATH=<prefix>/node_modules node bench/node/server.js --model-name mlp \
//       --model examples/models/mlp/1/model.onnx --port 8100
'use strict';

const http = require('http');
const os = require('os');
const ort = require('onnxruntime-node');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const modelName = arg('model-name', 'mlp');
const modelPath = arg('model', 'examples/models/mlp/1/model.onnx');
const port = Number(arg('port', '8100'));

const TYPES = {FP32: ['float32', Float32Array], INT64: ['int64', BigInt64Array],
               INT32: ['int32', Int32Array], FP64: ['float64', Float64Array]};
const DATATYPE = {float32: 'FP32', int64: 'INT64', int32: 'INT32', float64: 'FP64'};

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {'Content-Type': 'application/json',
                         'Content-Length': Buffer.byteLength(text)});
  res.end(text);
}

async function main() {
  const session = await ort.InferenceSession.create(modelPath, {
    intraOpNumThreads: os.availableParallelism ? os.availableParallelism() : os.cpus().length,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    extra: {session: {intra_op: {allow_spinning: '0'}, inter_op: {allow_spinning: '0'}}},
  });
  const inferPath = `/v2/models/${modelName}/infer`;

  const server = http.createServer((req, res) => {
    if (req.method === 'GET' && req.url === '/v2/health/ready') return reply(res, 200, {});
    if (req.method !== 'POST' || req.url !== inferPath) {
      return reply(res, 404, {error: 'not found'});
    }
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        const feeds = {};
        for (const input of body.inputs) {
          const [type, Ctor] = TYPES[input.datatype] || [];
          if (!type) return reply(res, 400, {error: `unsupported datatype ${input.datatype}`});
          const flat = input.data.flat(Infinity);
          const data = type === 'int64' ? Ctor.from(flat.map(BigInt)) : Ctor.from(flat);
          feeds[input.name] = new ort.Tensor(type, data, input.shape);
        }
        const results = await session.run(feeds);
        const outputs = Object.entries(results).map(([name, t]) => ({
          name, datatype: DATATYPE[t.type] || t.type, shape: t.dims,
          data: t.type === 'int64' ? Array.from(t.data, Number) : Array.from(t.data),
        }));
        reply(res, 200, {model_name: modelName, model_version: '1', outputs});
      } catch (e) {
        reply(res, 400, {error: String(e && e.message ? e.message : e)});
      }
    });
  });
  server.keepAliveTimeout = 60000;
  server.listen(port, '127.0.0.1', () => console.log(`node server on 127.0.0.1:${port}`));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
