/**
 * `z.locales` of the bundled zod, every locale but English loaded on its first
 * call. The build (tsup.config.ts) puts this module where zod imports its
 * locales: bundled with the rest, their 360 KB of source cost every `utt`
 * process about 43 M instructions (5–6 ms) to parse at start, while utt keeps
 * zod's default, English (which zod itself imports, so it stays bundled). The
 * others are in dist/zod-locales.cjs, required the first time one is called:
 * `z.config(z.locales.fr())` works as before (bench/startup, issue-12r).
 */
import type * as zodLocales from 'zod/v4/locales';
import en from 'zod/v4/locales/en.js';

type Locales = typeof zodLocales;
type LocaleName = Exclude<keyof Locales, 'en'>;
type Locale = typeof en;

let loaded: Readonly<Record<string, Locale>> | undefined;

function load(): Readonly<Record<string, Locale>> {
  loaded ??= process.getBuiltinModule('node:module').createRequire(import.meta.url)('./zod-locales.cjs') as Readonly<Record<string, Locale>>;
  return loaded;
}

function lazy<Name extends LocaleName>(name: Name): Locales[Name] {
  return (() => (load()[name] as Locale)()) as Locales[Name];
}

export { en };
export const ar = lazy('ar');
export const az = lazy('az');
export const be = lazy('be');
export const bg = lazy('bg');
export const bn = lazy('bn');
export const ca = lazy('ca');
export const ckb = lazy('ckb');
export const cs = lazy('cs');
export const da = lazy('da');
export const de = lazy('de');
export const el = lazy('el');
export const eo = lazy('eo');
export const es = lazy('es');
export const fa = lazy('fa');
export const fi = lazy('fi');
export const fr = lazy('fr');
export const frCA = lazy('frCA');
export const gu = lazy('gu');
export const he = lazy('he');
export const hi = lazy('hi');
export const hr = lazy('hr');
export const hu = lazy('hu');
export const hy = lazy('hy');
export const id = lazy('id');
export const is = lazy('is');
export const it = lazy('it');
export const ja = lazy('ja');
export const ka = lazy('ka');
export const kh = lazy('kh');
export const km = lazy('km');
export const kn = lazy('kn');
export const ko = lazy('ko');
export const lt = lazy('lt');
export const mk = lazy('mk');
export const ms = lazy('ms');
export const ne = lazy('ne');
export const nl = lazy('nl');
export const nn = lazy('nn');
export const no = lazy('no');
export const ota = lazy('ota');
export const ps = lazy('ps');
export const pl = lazy('pl');
export const pt = lazy('pt');
export const ptBR = lazy('ptBR');
export const ro = lazy('ro');
export const ru = lazy('ru');
export const sk = lazy('sk');
export const sl = lazy('sl');
export const sv = lazy('sv');
export const ta = lazy('ta');
export const tg = lazy('tg');
export const th = lazy('th');
export const tk = lazy('tk');
export const tr = lazy('tr');
export const ua = lazy('ua');
export const uk = lazy('uk');
export const ur = lazy('ur');
export const uz = lazy('uz');
export const vi = lazy('vi');
export const zhCN = lazy('zhCN');
export const zhTW = lazy('zhTW');
export const yo = lazy('yo');
