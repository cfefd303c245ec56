import path from 'node:path';
import { defineConfig } from '@tarojs/cli';
import type { UserConfigExport } from '@tarojs/cli';

// The API's address comes from the build environment (TARO_APP_API_BASE), never from lines to comment in and out.
// H5 is served by the API's own server at /m/, so its default is the same origin; a mini-program has no origin, so
// its default is a local `make run` (WeChat DevTools / Alipay IDE with domain checks off).
function apiBase(): string {
  const configured = process.env.TARO_APP_API_BASE;
  if (configured !== undefined) return configured.replace(/\/$/, '');
  return process.env.TARO_ENV === 'h5' ? '' : 'http://127.0.0.1:8000';
}

// The shared API client is TypeScript source in the workspace: Taro compiles only what it is told to.
const WORKSPACE_PACKAGES = path.resolve(__dirname, '../../packages');

export default defineConfig<'webpack5'>(async () => {
  const config: UserConfigExport<'webpack5'> = {
    projectName: 'govhall',
    date: '2026-11-30',
    // NutUI is drawn at 375 px; pxtransform turns px into rpx (mini-programs) and rem (H5) from it.
    designWidth: 375,
    deviceRatio: { 640: 2.34 / 2, 750: 1, 375: 2, 828: 1.81 / 2 },
    sourceRoot: 'src',
    outputRoot: `dist/${process.env.TARO_ENV}`,
    plugins: ['@tarojs/plugin-html'],
    defineConstants: {
      API_BASE: JSON.stringify(apiBase()),
      // true only where the platform simulator stands in for WeChat and Alipay (tests and local development).
      SIM_MODE: JSON.stringify(process.env.TARO_APP_SIM_MODE !== 'false'),
    },
    copy: { patterns: [], options: {} },
    framework: 'react',
    compiler: { type: 'webpack5', prebundle: { enable: false } },
    cache: { enable: false },
    logger: { quiet: true, stats: false },
    mini: {
      compile: { include: [WORKSPACE_PACKAGES] },
      postcss: {
        pxtransform: { enable: true, config: {} },
        cssModules: { enable: false },
      },
    },
    h5: {
      publicPath: '/m/',
      compile: { include: [WORKSPACE_PACKAGES] },
      staticDirectory: 'static',
      router: { mode: 'hash' },
      output: { filename: 'js/[name].[contenthash:8].js', chunkFilename: 'js/[name].[contenthash:8].js' },
      miniCssExtractPluginOption: {
        ignoreOrder: true,
        filename: 'css/[name].[contenthash:8].css',
        chunkFilename: 'css/[name].[contenthash:8].css',
      },
      postcss: {
        autoprefixer: { enable: true, config: {} },
        cssModules: { enable: false },
      },
    },
  };
  return config;
});
