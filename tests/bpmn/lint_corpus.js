#!/usr/bin/env node
// Lints every .bpmn file under a directory as Camunda's Modeler does for Zeebe 8.8: bpmnlint with
// bpmnlint-plugin-camunda-compat's `camunda-cloud-8-8` config, the diagram read with the zeebe moddle
// extension. Prints one JSON object, {relative path: [error-level reports as "rule: message (element id)"]},
// with an empty list for a file that has none (Camunda calls it executable). Warnings are left out.
// A file bpmn-moddle cannot read gets one "parse error: ..." report; rules that crash on a file give one
// "rule error: ..." report (they cannot vouch for it, so it is not called executable).
//
// Usage: node tests/bpmn/lint_corpus.js DIR [--tools .ci/tools] [--deadline SECONDS]
// The packages come from .ci/tools/node_modules (pinned by .ci/tools/package-lock.json; `npm ci` there).
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { createRequire } = require('node:module');

function usage(message) {
  process.stderr.write(`lint_corpus.js: ${message}\nusage: node lint_corpus.js DIR [--tools DIR] [--deadline SECONDS]\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const options = { dir: null, tools: path.resolve(__dirname, '..', '..', '.ci', 'tools'), deadline: 120 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--tools' || arg === '--deadline') {
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      const value = argv[++i];
      if (arg === '--tools') options.tools = path.resolve(value);
      else {
        options.deadline = Number(value);
        if (!(options.deadline > 0)) usage(`--deadline must be a positive number of seconds, not ${value}`);
      }
    } else if (options.dir === null) {
      options.dir = path.resolve(arg);
    } else {
      usage(`unexpected argument ${arg}`);
    }
  }
  if (options.dir === null) usage('give the directory to lint');
  return options;
}

function bpmnFiles(dir) {
  const found = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...bpmnFiles(full));
    else if (entry.isFile() && entry.name.endsWith('.bpmn')) found.push(full);
  }
  return found;
}

function short(text, limit = 200) {
  const line = String(text).split('\n')[0];
  return line.length > limit ? line.slice(0, limit - 3) + '...' : line;
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  const toolsRequire = createRequire(path.join(options.tools, 'package.json'));
  let Linter, NodeResolver, BpmnModdle, zeebe;
  try {
    ({ Linter } = toolsRequire('bpmnlint'));
    NodeResolver = toolsRequire('bpmnlint/lib/resolver/node-resolver');
    ({ BpmnModdle } = toolsRequire('bpmn-moddle'));
    zeebe = toolsRequire('zeebe-bpmn-moddle/resources/zeebe.json');
    toolsRequire.resolve('bpmnlint-plugin-camunda-compat');
  } catch (error) {
    process.stderr.write(`lint_corpus.js: cannot load bpmnlint, bpmnlint-plugin-camunda-compat or zeebe-bpmn-moddle from ${options.tools}/node_modules (${short(error.message)}); run \`npm ci\` there\n`);
    process.exit(3);
  }
  if (!fs.existsSync(options.dir) || !fs.statSync(options.dir).isDirectory()) usage(`${options.dir} is not a directory`);

  const started = Date.now();
  const linter = new Linter({
    config: { extends: 'plugin:camunda-compat/camunda-cloud-8-8' },
    resolver: new NodeResolver({ require: toolsRequire }),
  });
  const moddle = new BpmnModdle({ zeebe });
  const results = {};
  for (const file of bpmnFiles(options.dir).sort()) {
    if ((Date.now() - started) / 1000 > options.deadline) {
      process.stderr.write(`lint_corpus.js: stopped after ${options.deadline} s at ${file}; raise --deadline\n`);
      process.exit(4);
    }
    const name = path.relative(options.dir, file).split(path.sep).join('/');
    let root;
    try {
      ({ rootElement: root } = await moddle.fromXML(fs.readFileSync(file, 'utf-8')));
    } catch (error) {
      results[name] = [`parse error: ${short(error.message)}`];
      continue;
    }
    // bpmnlint prints the stack of a rule that crashes on console.error; it is reported below instead.
    const consoleError = console.error;
    console.error = () => {};
    let reports;
    try {
      reports = await linter.lint(root);
    } finally {
      console.error = consoleError;
    }
    const errors = [];
    const crashes = new Map(); // message -> rules that crashed with it
    for (const [rule, ruleReports] of Object.entries(reports)) {
      const ruleName = rule.replace(/^camunda-compat\//, '');
      for (const report of ruleReports) {
        if (report.category === 'rule-error') {
          // A rule that crashed on this diagram cannot vouch for it: counted as an error.
          const message = short(report.message);
          crashes.set(message, [...(crashes.get(message) || []), ruleName]);
        } else if (report.category === 'error') {
          const where = report.id ? ` (${report.id})` : '';
          errors.push(`${ruleName}: ${short(report.message)}${where}`);
        }
      }
    }
    for (const [message, rules] of crashes) {
      const which = rules.length === 1 ? `rule ${rules[0]}` : `${rules.length} rules (${rules[0]}, ...)`;
      errors.push(`rule error: ${which} crashed: ${message}`);
    }
    results[name] = errors;
  }
  process.stdout.write(JSON.stringify(results, null, 1) + '\n');
}

main().catch((error) => {
  process.stderr.write(`lint_corpus.js: ${error && error.stack || error}\n`);
  process.exit(1);
});
