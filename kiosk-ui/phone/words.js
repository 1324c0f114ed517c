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
