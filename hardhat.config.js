// Hardhat 2 configuration: compiles contracts/ offline with the npm solc-js build and the
// settings in contracts/compiler.json (the same ones ledger/compile.py uses), and runs the
// Hardhat node that the tests use as one of their three chains.
const path = require('path');
const { subtask } = require('hardhat/config');
const { TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD } = require('hardhat/builtin-tasks/task-names');

const compiler = require('./contracts/compiler.json');

subtask(TASK_COMPILE_SOLIDITY_GET_SOLC_BUILD, async (args, hre, runSuper) => {
  if (args.solcVersion !== compiler.version) return runSuper();
  const solc = require('solc');
  return {
    compilerPath: require.resolve('solc/soljson.js'),
    isSolcJs: true,
    version: compiler.version,
    longVersion: solc.version(),
  };
});

module.exports = {
  solidity: { version: compiler.version, settings: compiler.settings },
  paths: {
    sources: './contracts',
    artifacts: path.join(process.env.HARDHAT_OUT || '.data/hardhat', 'artifacts'),
    cache: path.join(process.env.HARDHAT_OUT || '.data/hardhat', 'cache'),
  },
  networks: { hardhat: { chainId: 31337, hardfork: compiler.settings.evmVersion } },
};
