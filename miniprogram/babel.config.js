// Taro's own preset: React, TypeScript, and the platform-specific transforms.
module.exports = {
  presets: [['taro', { framework: 'react', ts: true, compiler: 'webpack5' }]],
};
