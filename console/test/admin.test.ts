import { describe, expect, it } from 'vitest';
import {
  cleanField,
  diffGuide,
  fenOf,
  formFieldProblems,
  formFieldText,
  formFieldsOf,
  guideBody,
  guideProblems,
  moveField,
  newFieldName,
  newMaterial,
  optionsOf,
  yuan,
  type FormField,
  type Guide,
} from '../src/admin/guide';
import { dayLabel, monthGrid, proposedChange } from '../src/admin/calendar';
import { hallBody, hallFormProblems, nextWindowNumber, servesText, windowBody, windowNumberProblem, type Hall } from '../src/admin/halls';
import { staffFormProblems, strongEnough, temporaryPassword } from '../src/admin/staff';
import { SESSION_ENDED_TEXT, rememberSessionEnded, takeSessionEndedNotice } from '../src/session/ended';

const published: Guide = {
  id: 3, code: 'RS-001', name: '失业登记', department_id: 2, kind: 'public_service', audience: 'citizen', bookable: true,
  version: 4, department_name: '临江市人力资源和社会保障局', themes: [], conditions: '本市户籍', legal_basis: '', process: '',
  materials: [{ id: 1, code: 'M1', name: '身份证', required: true, form: 'original', copies: 1, notes: '', sample_url: null, e_licence: true, licence_type: 'id_card' }],
  form_fields: [{ name: 'reason', label: '失业原因', type: 'text' }], legal_days: 20, promised_days: 5,
  fees: [], amount_fen: 0, max_visits: 1, online_depth: 3, hall_ids: [1], pay_before: null, refund_on_denial: true,
  contact_phone: '', is_current: true, updated_at: null,
} as Guide;

describe('diffGuide', () => {
  it('finds nothing in an unchanged guide', () => {
    expect(diffGuide(published, structuredClone(published))).toEqual([]);
  });

  it('shows an added material, a shorter promise and a new fee in yuan', () => {
    const draft = {
      ...published,
      promised_days: 3,
      materials: [...published.materials, newMaterial(' 户口簿 ', true, 1)],
      fees: [{ name: '工本费', amount_fen: 1050 }],
    };
    expect(diffGuide(published, draft)).toEqual([
      { field: '承诺时限', before: '5 个工作日', after: '3 个工作日' },
      { field: '材料', before: '', after: '户口簿（必交，1 份）' },
      { field: '收费', before: '免费', after: '工本费 ¥10.50' },
    ]);
    expect(guideProblems(draft)).toEqual(['收费的事项要选择缴费时点（受理前或送达前）。']);
    expect(guideProblems({ ...draft, pay_before: 'acceptance' })).toEqual([]);
    expect(diffGuide(published, { ...draft, pay_before: 'acceptance' })).toContainEqual({ field: '缴费时点', before: '不收费', after: '受理前缴费' });
  });

  it('shows a removed material and a material no longer required', () => {
    const optional = { ...published, materials: [{ ...published.materials[0], required: false }] };
    expect(diffGuide(published, optional)).toEqual([
      { field: '材料', before: '', after: '身份证（非必交，1 份）' },
      { field: '材料', before: '身份证（必交，1 份）', after: '' },
    ]);
    expect(diffGuide(published, { ...published, materials: [] })).toEqual([{ field: '材料', before: '身份证（必交，1 份）', after: '' }]);
  });
});

describe('money and the body sent', () => {
  it('reads yuan as integer fen and refuses what is not money', () => {
    expect(fenOf('12.5')).toBe(1250);
    expect(fenOf('¥0.05')).toBe(5);
    expect(fenOf('20')).toBe(2000);
    expect(fenOf('1.234')).toBeNull();
    expect(fenOf('-3')).toBeNull();
    expect(fenOf('abc')).toBeNull();
    expect(yuan(1250)).toBe('¥12.50');
    expect(yuan(0)).toBe('免费');
  });

  it('sends a new material without a code so the server gives it one', () => {
    const draft = { ...published, materials: [...published.materials, newMaterial('户口簿', true, 1)] };
    const body = guideBody(draft, ' 增加户口簿 ');
    expect(body.materials.map((m) => m.code)).toEqual(['M1', null]);
    expect(body.change_note).toBe('增加户口簿');
  });

  it('explains a promise longer than the law and a bookable matter without a hall', () => {
    expect(guideProblems({ ...published, promised_days: 30 })).toEqual(['承诺时限不能超过法定时限。']);
    expect(guideProblems({ ...published, hall_ids: [] })).toEqual(['可预约的事项至少要选一个办理大厅。']);
    expect(guideProblems(published)).toEqual([]);
  });
});

describe('monthGrid', () => {
  it('lays out October 2031 from Monday with the admin holidays and a make-up Saturday', () => {
    const weeks = monthGrid(2031, 10, [
      { date: '2031-10-01', is_workday: false, note: '国庆节', source: 'admin' },
      { date: '2031-10-11', is_workday: true, note: '国庆调休', source: 'admin' },
    ]);
    // 1 October 2031 is a Wednesday: two empty cells before it.
    expect(weeks[0].slice(0, 3).map((cell) => cell?.day ?? null)).toEqual([null, null, 1]);
    const all = weeks.flat().filter((cell) => cell !== null);
    expect(all).toHaveLength(31);
    expect(weeks.every((week) => week.length === 7)).toBe(true);
    expect(all[0]).toMatchObject({ date: '2031-10-01', isWorkday: false, kind: 'holiday', note: '国庆节' });
    expect(all[10]).toMatchObject({ date: '2031-10-11', isWorkday: true, kind: 'makeup' });
    expect(all[3]).toMatchObject({ date: '2031-10-04', isWorkday: false, kind: 'weekend' });
    expect(all[5]).toMatchObject({ date: '2031-10-06', isWorkday: true, kind: 'weekday' });
  });

  it('offers a holiday on a working day, a make-up day on a weekend, and undoing what the admin set', () => {
    const [week] = monthGrid(2030, 9, []);
    const sunday = week[6]!;
    expect(sunday.date).toBe('2030-09-01');
    expect(proposedChange(sunday)).toEqual({ isWorkday: true, label: '设为调休上班（班）' });
    const monday = monthGrid(2030, 9, [])[1][0]!;
    expect(proposedChange(monday)).toEqual({ isWorkday: false, label: '设为节假日（休）' });
    expect(proposedChange({ ...monday, kind: 'holiday', isWorkday: false }).label).toBe('恢复为工作日');
  });
});

describe('staff form', () => {
  const form = { username: 'liqiang', name: '李强', password: 'abc1234567', roles: ['clerk' as const], departmentId: 2 };

  it('lets a clerk of a department through', () => {
    expect(staffFormProblems(form, true)).toEqual([]);
  });

  it('keeps case roles inside a department but lets a supervisor be city-wide', () => {
    expect(staffFormProblems({ ...form, departmentId: null }, true)).toEqual(['受理窗口、审批人和部门管理员必须属于一个部门。']);
    expect(staffFormProblems({ ...form, roles: ['supervisor'], departmentId: null }, true)).toEqual([]);
  });

  it('asks for a role, a name and a strong first password', () => {
    expect(staffFormProblems({ ...form, roles: [], name: ' ', password: 'short1' }, true)).toEqual([
      '请填写姓名。',
      '初始密码至少 10 位，且同时含字母和数字。',
      '至少选择一个角色。',
    ]);
    // editing an account does not ask for the password again
    expect(staffFormProblems({ ...form, password: '' }, false)).toEqual([]);
  });

  it('makes temporary passwords the backend accepts', () => {
    for (let i = 0; i < 50; i += 1) expect(strongEnough(temporaryPassword())).toBe(true);
    expect(strongEnough('abcdefghij')).toBe(false);
  });
});

describe('session ended notice', () => {
  it('is shown once on the login page after the server refused the token', () => {
    const store = new Map<string, string>();
    const storage = { getItem: (k: string) => store.get(k) ?? null, setItem: (k: string, v: string) => void store.set(k, v), removeItem: (k: string) => void store.delete(k) };
    expect(takeSessionEndedNotice(storage)).toBeNull();
    rememberSessionEnded(storage);
    expect(takeSessionEndedNotice(storage)).toBe(SESSION_ENDED_TEXT);
    expect(takeSessionEndedNotice(storage)).toBeNull();
  });
});

describe('form fields of the guide', () => {
  const withFields = (fields: FormField[]) => ({ ...published, form_fields: fields as unknown as Guide['form_fields'] });
  const reason = formFieldsOf(published)[0];

  it('shows an added select field with its options, and a field made required', () => {
    const added: FormField = { name: newFieldName(formFieldsOf(published)), label: '申请方式', type: 'select', required: true, options: optionsOf('本人，代办、本人') };
    expect(added.name).toBe('field_2');
    expect(added.options).toEqual(['本人', '代办']);
    expect(diffGuide(published, withFields([reason, added]))).toEqual([
      { field: '申请表字段', before: '', after: '申请方式（单选，必填，选项：本人/代办）' },
    ]);
    expect(diffGuide(published, withFields([{ ...reason, required: true }]))).toEqual([
      { field: '申请表字段', before: '', after: '失业原因（文字，必填）' },
      { field: '申请表字段', before: '失业原因（文字，选填）', after: '' },
    ]);
  });

  it('shows a removed field and a new order', () => {
    const date: FormField = { name: 'since', label: '失业日期', type: 'date', required: true };
    const two = withFields([reason, date]);
    expect(diffGuide(two, withFields([]))).toEqual([
      { field: '申请表字段', before: '失业原因（文字，选填）', after: '' },
      { field: '申请表字段', before: '失业日期（日期，必填）', after: '' },
    ]);
    const swapped = moveField(formFieldsOf(two), 1, -1);
    expect(swapped.map((f) => f.name)).toEqual(['since', 'reason']);
    expect(moveField(swapped, 0, -1)).toEqual(swapped);
    expect(diffGuide(two, withFields(swapped))).toEqual([{ field: '申请表字段顺序', before: '失业原因 → 失业日期', after: '失业日期 → 失业原因' }]);
  });

  it('explains a select without options, a blank or repeated label, and sends clean fields', () => {
    const broken: FormField[] = [
      { name: 'a', label: '方式', type: 'select', options: [] },
      { name: 'b', label: ' ', type: 'text' },
      { name: 'c', label: '方式', type: 'number' },
    ];
    expect(formFieldProblems(broken)).toEqual(['每个申请表字段都要有名称。', '申请表字段名称不能重复。', '单选字段「方式」至少要有一个选项。']);
    expect(guideProblems(withFields(broken))).toContain('单选字段「方式」至少要有一个选项。');
    // A type changed away from select drops its options; a pre-fill that no longer fits the type is dropped.
    expect(cleanField({ name: 'x', label: ' 证件号 ', type: 'text', options: ['a'], prefill: 'id_number' })).toEqual({ name: 'x', label: '证件号', type: 'text', required: false });
    expect(cleanField({ name: 'p', label: '手机', type: 'phone', required: true, prefill: 'phone' })).toMatchObject({ prefill: 'phone' });
    expect(formFieldText({ name: 'p', label: '手机', type: 'phone', required: true, prefill: 'phone' })).toBe('手机（手机号码，必填，自动填入申请人手机号）');
    expect(guideBody(withFields([{ ...reason, options: ['x'] } as FormField]), '').form_fields).toEqual([{ name: 'reason', label: '失业原因', type: 'text', required: false }]);
  });
});

describe('monthGrid with the statutory days', () => {
  it('draws 国庆节 and its make-up Saturday from the published data, the admin overriding', () => {
    const statutory = [
      { date: '2026-10-01', is_workday: false, kind: 'holiday' as const, name: '国庆节' },
      { date: '2026-10-03', is_workday: false, kind: 'holiday' as const, name: '国庆节' },
      { date: '2026-10-10', is_workday: true, kind: 'makeup' as const, name: '国庆节' },
    ];
    const all = monthGrid(2026, 10, [{ date: '2026-10-03', is_workday: true, note: '加班受理', source: 'admin' }], statutory)
      .flat()
      .filter((cell) => cell !== null);
    expect(all[0]).toMatchObject({ kind: 'statutoryHoliday', isWorkday: false, note: '国庆节' });
    expect(all[2]).toMatchObject({ kind: 'makeup', isWorkday: true, note: '加班受理' });
    expect(all[9]).toMatchObject({ kind: 'statutoryMakeup', isWorkday: true, note: '国庆节调休' });
    expect(dayLabel(all[0]!)).toBe('2026-10-01 休息日，法定节假日（国家公布）：国庆节');
    expect(dayLabel(all[9]!)).toBe('2026-10-10 工作日，调休上班日（国家公布）：国庆节调休');
    expect(dayLabel(all[4]!)).toBe('2026-10-05 工作日');
    expect(proposedChange(all[0]!).label).toBe('设为调休上班（班）');
  });
});

describe('halls and windows', () => {
  const hall = {
    id: 7, code: 'JB-01', name: '江北便民中心', district: '江北区', address: '滨江路1号', opening_hours: '周一至周五 09:00-17:00',
    opening_periods: [{ weekdays: [1, 2, 3, 4, 5], start: '09:00', end: '17:00' }], phone: '', windows: 2, department_id: 3,
    service_windows: [
      { id: 1, hall_id: 7, number: 1, name: '综合窗口', department_id: null, matter_ids: [], open: true },
      { id: 2, hall_id: 7, number: 4, name: '公积金', department_id: 3, matter_ids: [11, 12], open: false },
    ],
  } as Hall;

  it('keeps the opening periods unless the hours text changed', () => {
    const form = { code: 'JB-01', name: '江北便民中心', district: '江北区', address: '滨江路1号', openingHours: '周一至周五 09:00-17:00', phone: '' };
    expect(hallBody(form, hall, 3).opening_periods).toEqual(hall.opening_periods);
    expect(hallBody({ ...form, openingHours: '周一至周六 09:00-12:00' }, hall, 3).opening_periods).toEqual([]);
    expect(hallFormProblems(form)).toEqual([]);
    expect(hallFormProblems({ ...form, code: '中', address: ' ' })).toEqual(['大厅编码为 2-16 位字母、数字或 -。', '请填写地址。']);
  });

  it('numbers, describes and reopens windows', () => {
    const windows = hall.service_windows!;
    expect(nextWindowNumber(windows)).toBe(5);
    expect(nextWindowNumber([])).toBe(1);
    expect(windowNumberProblem(4, windows)).toBe('4 号窗口已存在。');
    expect(windowNumberProblem(4, windows, windows[1])).toBeNull();
    expect(windowNumberProblem(0, windows)).toBe('窗口编号为 1-999 的整数。');
    expect(servesText(windows[0], () => '')).toBe('综合窗口（所有部门）');
    expect(servesText(windows[1], () => '公积金中心')).toBe('公积金中心 · 限 2 个事项');
    expect(windowBody(windows[1], { open: true })).toEqual({ number: 4, name: '公积金', department_id: 3, matter_ids: [11, 12], open: true });
  });
});
