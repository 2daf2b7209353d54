// Runs PactFlow's swagger-mock-validator through its package API and prints
// its result as JSON (the CLI prints a JavaScript object, not JSON):
//   node swagger-mock-validator-report.mjs PREFIX SPEC MOCK
// PREFIX is where ci/install-swagger-mock-validator.sh installed it.
import { pathToFileURL } from 'node:url';
import path from 'node:path';

const [prefix, spec, mock] = process.argv.slice(2);
const entry = path.join(prefix, 'node_modules/@pactflow/swagger-mock-validator/dist/swagger-mock-validator-factory.js');
const { SwaggerMockValidatorFactory } = await import(pathToFileURL(entry).href);
const result = await SwaggerMockValidatorFactory.create().validate({
  specPathOrUrl: spec,
  mockPathOrUrl: mock,
});
const item = (r) => ({
  code: r.code,
  message: r.message,
  interaction: r.mockDetails ? r.mockDetails.interactionDescription : null,
});
console.log(JSON.stringify({
  success: result.success,
  errors: result.errors.map(item),
  warnings: result.warnings.map(item),
}));
