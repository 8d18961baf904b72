// The official Camunda 8 JS SDK against a zeebe-trio gateway (run by tests/e2e/test_real_clients.py).
// The SDK gzips every request, so this also proves the gateway's compression.
const { Camunda8 } = require('@camunda8/sdk')

const [address, bpmnFile] = process.argv.slice(2)
const zeebe = new Camunda8({
  ZEEBE_GRPC_ADDRESS: `grpc://${address}`,
  CAMUNDA_AUTH_STRATEGY: 'NONE',
  CAMUNDA_SECURE_CONNECTION: false,
  zeebeGrpcSettings: { ZEEBE_CLIENT_LOG_LEVEL: 'NONE' },
}).getZeebeGrpcApiClient()

async function main() {
  const out = {}
  const topology = await zeebe.topology()
  out.partitions = topology.brokers.flatMap(b => b.partitions.map(p => `${p.partitionId}:${p.role}:${p.health}`))
  const deployed = await zeebe.deployResource({ processFilename: bpmnFile })
  out.deployed = deployed.deployments[0].process.bpmnProcessId
  const big = 'compress me '.repeat(500)
  const created = await zeebe.createProcessInstance({ bpmnProcessId: out.deployed, variables: { orderId: 'A-1', big } })
  out.created = String(created.processInstanceKey)
  const jobs = await zeebe.activateJobs({ type: 'work', worker: 'js-sdk', maxJobsToActivate: 5, timeout: 60000,
                                          requestTimeout: 5000 })
  out.activated = jobs.length
  out.variablesIntact = jobs[0].variables.orderId === 'A-1' && jobs[0].variables.big === big
  await zeebe.completeJob({ jobKey: jobs[0].key, variables: { done: true } })
  const worker = zeebe.createWorker({ taskType: 'work', taskHandler: job => job.complete({ viaWorker: true }) })
  const result = await zeebe.createProcessInstanceWithResult({ bpmnProcessId: out.deployed, variables: { n: 2 } })
  out.result = result.variables
  await worker.close()
  try {
    await zeebe.completeJob({ jobKey: jobs[0].key })
    out.secondCompletion = 'accepted'
  } catch (error) {
    out.secondCompletion = String(error.code)
  }
  await zeebe.close()
  console.log(JSON.stringify(out))
}

main().then(() => process.exit(0), error => { console.error(error); process.exit(1) })
