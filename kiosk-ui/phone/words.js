/**
 * Words the phone pages show for codes the server answers (zh-CN + en), typed by those codes; the server's own
 * message texts are not parsed. Kept beside the pages that use them.
 */

/** @import { RequestStatus } from './api-types.js' */

/**
 * GET /api/requests/status/:token doorNotice: the last door closed the wrong way.
 * @type {Readonly<Record<NonNullable<RequestStatus['doorNotice']>, readonly [string, string]>>}
 */
export const DOOR_NOTICE = {
  item_not_taken: [
    '柜门已关上，但文件还在柜内，没有取走。取件码仍然有效：请再到帮办柜扫下面的二维码或输入取件码，柜门会再次打开。',
    'The door was closed with your document still inside. Your code still works: scan the QR code below or type your code at the cabinet and the door opens again.',
  ],
  nothing_deposited: [
    '放件柜门已关上，但柜内没有材料。放件码仍然有效：请再到帮办柜扫下面的二维码，放入材料后关门。',
    'The drop-off door was closed with nothing inside. Your drop-off code still works: scan the QR code below at the cabinet, put the materials in and close the door.',
  ],
};

/**
 * /m/submit, the page's own check before sending: a field it shows was left empty, by the field (the API's path).
 * @type {Readonly<Record<string, readonly [string, string]>>}
 */
export const FIELD_MISSING = {
  name: ['请填写姓名', 'Fill in your name'],
  mobile: ['请填写手机号码', 'Fill in your mobile number'],
  idNumber: ['请填写身份证号码', 'Fill in your ID card number'],
  'address.building': ['请填写楼号', 'Fill in the building'],
  'address.unit': ['请填写单元', 'Fill in the unit'],
  'address.room': ['请填写房号', 'Fill in the room'],
};

/**
 * /m/submit: the heading of the list of fields to correct, above the form.
 * @param {number} count
 * @returns {readonly [string, string]}
 */
export function fixSummary(count) {
  return count === 1
    ? ['有 1 处需要修改，请按提示修改后再提交：', 'One field needs correcting before you submit:']
    : [`有 ${count} 处需要修改，请按提示修改后再提交：`, `${count} fields need correcting before you submit:`];
}
